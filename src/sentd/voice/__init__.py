"""Voice: the question/answer contract with a number's callback URL, the simulator's number pool,
app-user tokens, and the call engine. Domain code, free of the web framework."""
