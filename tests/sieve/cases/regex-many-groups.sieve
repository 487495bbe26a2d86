# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","variables","fileinto"];
if header :regex "subject" "(H)(e)(l)(l)(o) (w)(o)(r)(l)(d)" { fileinto "${10}|${11}|${9}"; }
