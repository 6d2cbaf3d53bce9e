"""Business operations. Each public function owns its transaction, then notifies and
enqueues only after the commit."""
