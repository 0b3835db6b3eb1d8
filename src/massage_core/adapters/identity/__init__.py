"""Identity adapters: third-party login sandbox, SMS code sender sandbox."""
