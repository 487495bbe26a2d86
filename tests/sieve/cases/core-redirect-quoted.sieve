# message: basic.eml
# args: -f alice@example.com -a bob@example.org
redirect "\"john doe\"@example.com";
redirect "Name <a.b@example.com>";
