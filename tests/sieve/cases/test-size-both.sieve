# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if size :over 1 :under 2 { discard; }
