"""The Akeneo REST client: authentication now; paging, retries and media come with the client issue."""
