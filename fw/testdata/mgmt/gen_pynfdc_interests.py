"""Writes pynfdc_interests.txt: Interests as python-ndn's pynfdc sends them,
encoded by python-ndn itself, with its random values fixed.

Usage (python-ndn need not be installed, nor pycryptodomex):
    git clone https://github.com/named-data/python-ndn /tmp/python-ndn
    python3 gen_pynfdc_interests.py /tmp/python-ndn/src > pynfdc_interests.txt

DigestSha256Signer imports Cryptodome.Hash.SHA256; a stand-in built on
hashlib is put in its place, and the signer's module is loaded without the
rest of ndn.security (whose other signers need the real Cryptodome).
"""
import hashlib
import importlib
import sys
import types

src = sys.argv[1]
sys.path.insert(0, src)
for pkg in ('Cryptodome', 'Cryptodome.Hash'):
    m = types.ModuleType(pkg)
    m.__path__ = []
    sys.modules[pkg] = m
sha = types.ModuleType('Cryptodome.Hash.SHA256')
sha.new = lambda data=b'': hashlib.sha256(data)
sys.modules['Cryptodome.Hash.SHA256'] = sha
sys.modules['Cryptodome.Hash'].SHA256 = sha
import ndn  # noqa: E402
for pkg in ('ndn.security', 'ndn.security.signer'):
    m = types.ModuleType(pkg)
    m.__path__ = [src + '/' + pkg.replace('.', '/')]
    sys.modules[pkg] = m
sds = importlib.import_module('ndn.security.signer.sha256_digest_signer')
sys.modules['ndn.security'].DigestSha256Signer = sds.DigestSha256Signer
from ndn.encoding import make_interest, InterestParam, Name, Component  # noqa: E402
from ndn.app_support.nfd_mgmt import FaceQueryFilter, FaceQueryFilterValue, make_command_v2  # noqa: E402

sds.timestamp = lambda: 1764396000123
sds.gen_nonce_64 = lambda: 0x0123456789abcdef
param = InterestParam(can_be_prefix=True, must_be_fresh=True, nonce=0x11223344, lifetime=1000)


def interest(name):
    # as src/ndn/bin/nfdc/utils.py express_interest
    return bytes(make_interest(name, param, app_param=b'', signer=sds.DigestSha256Signer(True))).hex()


print('''# Interests exactly as python-ndn's pynfdc sends them, encoded by python-ndn
# itself (gen_pynfdc_interests.py): named-data/python-ndn at e4d6877a7a8d
# (2026-08-20), src/ndn/bin/nfdc/utils.py express_interest (app_param=b'',
# DigestSha256Signer(for_interest=True), lifetime=1000, can_be_prefix=True,
# must_be_fresh=True) through ndn.encoding.make_interest; commands named by
# app_support/nfd_mgmt.py make_command_v2. Its random values are fixed:
# Nonce 0x11223344, SignatureNonce 0x0123456789abcdef, SignatureTime
# 1764396000123 (ms). faces/query carries FaceQueryFilter{FaceId 1},
# faces/create Uri tcp4://127.0.0.1:9, rib/register Name /test/pynfdc and
# FaceId 7.
# <request> <Interest in hex>''')
for verb in ['status/general', 'faces/list', 'faces/query', 'fib/list', 'rib/list', 'strategy-choice/list']:
    name = Name.from_str('/localhost/nfd/' + verb)
    if verb == 'faces/query':
        filt = FaceQueryFilter()
        filt.face_query_filter = FaceQueryFilterValue()
        filt.face_query_filter.face_id = 1
        name = name + [Component.from_bytes(filt.encode())]
    print(verb, interest(name))
for module, verb, kw in [('faces', 'create', dict(uri=b'tcp4://127.0.0.1:9')),
                         ('rib', 'register', dict(name='/test/pynfdc', face_id=7))]:
    print(module + '/' + verb, interest(make_command_v2(module, verb, **kw)))
