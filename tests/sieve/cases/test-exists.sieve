# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if exists "Subject" { fileinto "HasSubject"; }
if exists ["from", "x-nope"] { fileinto "No"; }
if exists ["from", "to", "date"] { fileinto "All"; }
