"""The client list (/clients) and the client profile (/clients/[client_id])."""
