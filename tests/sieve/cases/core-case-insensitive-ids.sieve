# message: basic.eml
# args: -f alice@example.com -a bob@example.org
REQUIRE "FileInto";
IF HEADER :CONTAINS "Subject" "WORLD" { FILEINTO "Caps"; }
