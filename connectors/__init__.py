"""Platform adapters: plain data in, plain data out. No Flask, no database, no routing."""
