"""IAM OpenID Connect providers, as the IAM API reference describes them.

moto 5.2:
- has no AddClientIDToOpenIDConnectProvider or RemoveClientIDFromOpenIDConnectProvider: both are
  added, idempotent as IAM documents them (adding a present client id or removing an absent one
  succeeds); an unknown provider answers NoSuchEntity;
- stores an empty thumbprint list when CreateOpenIDConnectProvider omits it: IAM then retrieves
  the issuer's top intermediate CA thumbprint itself, so a thumbprint is stored (a fixed one, as
  the emulator cannot reach the issuer);
- answers GetOpenIDConnectProvider without the provider's tags in the documented shape: the
  answer lists them (Key, Value).
"""

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

# What the emulator stores for an issuer's thumbprint when none is given (40 hex digits, the
# shape IAM stores; the value of the CA EKS issuers used to chain to).
COMPUTED_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

_orig_create = IAMBackend.create_open_id_connect_provider


def create_open_id_connect_provider(self, url, thumbprint_list, client_id_list, tags):
    return _orig_create(
        self, url, thumbprint_list or [COMPUTED_THUMBPRINT], client_id_list, tags
    )


def r_get_open_id_connect_provider(self):
    provider = self.backend.get_open_id_connect_provider(
        self._get_param("OpenIDConnectProviderArn")
    )
    return ActionResult(
        {
            "Url": provider.url,
            "ClientIDList": list(provider.client_id_list),
            "ThumbprintList": list(provider.thumbprint_list),
            "CreateDate": provider.create_date,
            "Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in provider.tags.values()],
        }
    )


def r_add_client_id(self):
    provider = self.backend.get_open_id_connect_provider(
        self._get_param("OpenIDConnectProviderArn")
    )
    client_id = self._get_param("ClientID")
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)
    return EmptyResult()


def r_remove_client_id(self):
    provider = self.backend.get_open_id_connect_provider(
        self._get_param("OpenIDConnectProviderArn")
    )
    client_id = self._get_param("ClientID")
    provider.client_id_list = [c for c in provider.client_id_list if c != client_id]
    return EmptyResult()


def install() -> None:
    IAMBackend.create_open_id_connect_provider = create_open_id_connect_provider
    IamResponse.get_open_id_connect_provider = r_get_open_id_connect_provider
    IamResponse.add_client_id_to_open_id_connect_provider = r_add_client_id
    IamResponse.remove_client_id_from_open_id_connect_provider = r_remove_client_id
