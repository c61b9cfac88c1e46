"""The national interface's wire protocol, shared by the gateway (inbound), the outbound
connectors and the simulators: the message envelope and national cryptography (国密). No
network, no database.

* ``envelope`` — sealing and opening requests and responses (SM4-encrypted ``input``,
  SM3withSM2 signature over the canonical signing string);
* ``sm2`` — SM3withSM2 signatures on two back-ends (Tongsuo in C, gmssl in Python);
* ``sm4`` — SM4-CBC with PKCS7 padding and a random IV;
* ``sm3`` — the SM3 digest;
* ``keys`` — the key ring one party holds, and the key files it is loaded from;
* ``errors`` — ``CryptoError``, a malformed key.
"""
