# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: ereject-unsupported
require "ereject";
ereject "Refused";
