# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require ["index","date","variables","fileinto"];
if header :index 2 :matches "x-multi" "*" { fileinto "I2=${1}"; }
if header :index 1 :last :matches "x-multi" "*" { fileinto "Last=${1}"; }
if header :index 9 :matches "x-multi" "*" { fileinto "None"; }
