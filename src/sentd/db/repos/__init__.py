"""One module of SQL per aggregate. Functions take a connection and return plain records."""
