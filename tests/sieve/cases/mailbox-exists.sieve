# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["mailbox","fileinto"];
if mailboxexists "INBOX" { fileinto "InboxExists"; }
if mailboxexists ["INBOX", "Nope"] { fileinto "BothExist"; }
