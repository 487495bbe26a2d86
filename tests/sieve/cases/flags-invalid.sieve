# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
addflag ["\\Foo", "b(c", "\\Recent", "ok", "\\draft", "\\Deleted", "\\answered", "\\flagged"];
fileinto "A";
