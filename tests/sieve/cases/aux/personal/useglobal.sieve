require ["include","variables","fileinto"];
global "who";
fileinto "Who-${who}";
