# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["relational","comparator-i;ascii-numeric","fileinto"];
if header :value "gt" "subject" "A" { fileinto "GtA"; }
if header :value "lt" :comparator "i;octet" "subject" "a" { fileinto "LtaOctet"; }
if header :value "eq" "subject" "HELLO WORLD" { fileinto "EqCasemap"; }
if header :value "ne" "subject" "x" { fileinto "Ne"; }
if header :value "le" "subject" "Hello world" { fileinto "Le"; }
