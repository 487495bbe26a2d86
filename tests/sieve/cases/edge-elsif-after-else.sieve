# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if false { keep; } else { discard; } elsif true { stop; }
