"""API tokens: each user creates, names, lists and revokes their own; only a hash is stored.

Other packages use `ApiTokenAuthentication` (REST_FRAMEWORK's first authentication class, by its path
`orders.api_tokens.authentication.ApiTokenAuthentication`) and `api_token_create` (demo and test setup).
Model: `orders.models.ApiToken` (or `orders.api_tokens.models`).
"""

from orders.api_tokens.services import api_token_create, api_token_revoke

__all__ = ["api_token_create", "api_token_revoke"]
