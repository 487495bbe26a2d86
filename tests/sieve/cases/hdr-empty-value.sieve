# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :is "x-empty" "" { fileinto "EmptyIs"; }
if exists "x-empty" { fileinto "EmptyExists"; }
if header :contains "x-empty" "" { fileinto "EmptyContains"; }
