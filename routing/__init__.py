"""Pure decisions about a conversation: no Flask, no database, data in and data out."""
