# message: basic.eml
# args: -f alice@example.com -a bob@example.org
redirect "Carol C. <carol@example.net>";
