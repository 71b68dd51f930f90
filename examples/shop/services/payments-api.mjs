// shop.Payments as a gRPC service with JSON messages: grpc-js needs no .proto for this, so the
// demo stays free of code generation. Shared by the payments server and its callers.
const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString()),
};

/** The service definition: one unary method, Charge({ amount }) -> { service, version, charged }. */
export const PAYMENTS = {
  Charge: {
    path: '/shop.Payments/Charge',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
