require ["include","variables"];
global "who";
set "who" "included";
