# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if header :matches "subject" "*****H*e*l*l*o*****w*o*r*l*d*****" { fileinto "Stars"; }
if header :matches "subject" "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b" { fileinto "No"; }
