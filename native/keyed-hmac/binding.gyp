{
  'targets': [
    {
      'target_name': 'keyed_hmac',
      'sources': ['src/keyed_hmac.c'],
      'defines': ['NAPI_VERSION=8'],
      # SHA256_Init/Update/Final are deprecated in OpenSSL 3 but exported by every Node build; they are the
      # only OpenSSL interface that lets a hash state be copied without an allocation per call.
      'cflags': ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-deprecated-declarations'],
    },
  ],
}
