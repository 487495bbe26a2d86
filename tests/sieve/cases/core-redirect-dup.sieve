# message: basic.eml
# args: -f alice@example.com -a bob@example.org
redirect "carol@example.net";
redirect "carol@example.net";
redirect "Carol@example.net";
redirect "carol@EXAMPLE.net";
