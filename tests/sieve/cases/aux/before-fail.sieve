require "reject";
keep;
reject "x";
