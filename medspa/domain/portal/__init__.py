"""The client portal: email sign-in codes, client sessions, the client's own view of the clinic."""
