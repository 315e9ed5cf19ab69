"""Events: state changes customers can subscribe to, written in the transaction that made them
and fanned out to matching webhooks as delivery jobs."""
