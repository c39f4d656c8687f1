/**
 * A self-signed certificate for `localhost` / 127.0.0.1 (EC P-256, valid until 2126), made for tests of how TLS
 * failures read: no trust store knows it, so a client refuses it with DEPTH_ZERO_SELF_SIGNED_CERT. Test data only.
 */
export const SELF_SIGNED_TLS = {
  key: [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvFFVQmtk78r4RUzd',
    '10PlTL24aCJyWSuQLt5y9kbSVVWhRANCAARppQ+iCgyUo35mym67nrHDF5UOE2+a',
    'YYrBd7dNR4JKXWiNx7bxj6MeNwe1Nzf9vjVrY62u5EE1JilTjjU0Inrv',
    '-----END PRIVATE KEY-----',
  ].join('\n'),
  cert: [
    '-----BEGIN CERTIFICATE-----',
    'MIIBnDCCAUGgAwIBAgIUME9jtYdgsZNl5p76ZSDC0RZo2ywwCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzIzMTM1M1oYDzIxMjYxMTEz',
    'MjMxMzUzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAARppQ+iCgyUo35mym67nrHDF5UOE2+aYYrBd7dNR4JKXWiNx7bxj6Me',
    'Nwe1Nzf9vjVrY62u5EE1JilTjjU0Inrvo28wbTAdBgNVHQ4EFgQUrDOCY6JXE4i9',
    'lW9vmBAk27Tt4AcwHwYDVR0jBBgwFoAUrDOCY6JXE4i9lW9vmBAk27Tt4AcwDwYD',
    'VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI',
    'zj0EAwIDSQAwRgIhAKlTlcStAzeQ8FrzPdO9Q7pILpzQfdsn+UNJZhnrt9dyAiEA',
    'iVLNWTvzte+j1Ge7Uc7E2vsDk9X0ZONrPDXLLEVRclQ=',
    '-----END CERTIFICATE-----',
  ].join('\n'),
};
