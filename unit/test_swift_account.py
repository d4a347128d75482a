"""A request aimed at a project's account names exactly that account."""
from zaqar_swift.storage.swift import client as swift_client


def _aimed(account):
    seen = {}

    def request(url, token, *args, http_conn=None, **kwargs):
        seen.update(url=url, path=http_conn[0].path if http_conn else None)

    swift_client._in_account(request, account)(
        'http://swift:8080/v1/AUTH_service', 'tok', http_conn=(None, object()))
    return seen


def test_the_account_is_one_quoted_segment():
    assert _aimed('AUTH_p1')['url'] == 'http://swift:8080/v1/AUTH_p1'
    seen = _aimed('AUTH_a/b')
    assert seen['url'] == 'http://swift:8080/v1/AUTH_a%2Fb'
    assert seen['path'] == '/v1/AUTH_a%2Fb'
    assert _aimed('AUTH_%2F')['url'] == 'http://swift:8080/v1/AUTH_%252F'
    assert _aimed('AUTH_..')['url'] == 'http://swift:8080/v1/AUTH_..'


def test_the_service_account_is_left_alone():
    def request(url, token):
        return url
    assert swift_client._in_account(request, None) is request
