"""Cryptography adapters: AES-256-GCM field cipher, HMAC blind indexes, Argon2id."""
