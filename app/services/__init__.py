"""Business rules. Each public function owns its transaction: it commits or rolls back."""
