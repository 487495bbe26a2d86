# message: forward.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :content "message/rfc822" :contains "Zed" { fileinto "HdrZed"; }
if body :content "message/rfc822" :contains "pineapple" { fileinto "MsgBody"; }
if body :content "text" :contains "pineapple" { fileinto "TextPine"; }
if body :text :contains "pineapple" { fileinto "TextT"; }
if body :content "message" :contains "Subject: the original" { fileinto "MsgType"; }
if body :content "text/" :contains "" { fileinto "TrailingSlash"; }
if body :content "text/plain/x" :contains "" { fileinto "TwoSlash"; }
if body :content "" :contains "pineapple" { fileinto "EmptyType"; }
