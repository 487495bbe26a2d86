# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if true { stop; }
redirect "x@example.net";
