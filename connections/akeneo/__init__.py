"""The Akeneo REST client: authentication (auth), the one gate for every request with paging, retries, media
and the shared in-flight limit (client, limiter), typed errors (errors), the table of resources (resources)."""
