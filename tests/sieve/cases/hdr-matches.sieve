# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :matches "subject" "Hel*d" { fileinto "M1"; }
if header :matches "subject" "?ello*" { fileinto "M2"; }
if header :matches "subject" "*x*" { fileinto "M3"; }
if header :matches "subject" "*" { fileinto "M4"; }
