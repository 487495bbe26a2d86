require "imap4flags";
addflag "y";
