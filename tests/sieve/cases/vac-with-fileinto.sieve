# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require ["vacation","fileinto"];
fileinto "Seen";
vacation "away";
