# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if header :is "bad:name" "x" { discard; }
