// The lookup's request frame without a flatbuffers.Builder: a GetOrgPolicy Request (domain policy,
// no kinds) copied from a fixed header with the id, `strict` and the org id written in.
//
// Pure: values in, bytes out. The layout is the one clients/python/policyd_client/fast_wire.py
// writes (not the Builder's byte order, which lays fields out differently): policyd's Verifier
// and the generated reader read the same values from both (test/fast-wire.test.ts).
//
// Payload offsets (the frame's 4-byte length comes first):
//    0 root uoffset -> 24           4 "PDRQ"
//    8 Request vtable: size 10, table 17; id at +8, body_type at +16, body at +4
//   24 Request: soffset 16 (-> 8), body uoffset (-> 56), id u64 at 32, body_type u8 at 40
//   44 GetOrgPolicy vtable: size 10, table 13; org_id at +4, strict at +12, no kinds
//   56 GetOrgPolicy: soffset 12 (-> 44), org_id uoffset (-> 72), kinds uoffset 0, strict u8 at 68
//   72 org_id: u32 length, UTF-8 bytes, NUL
const HEADER_BYTES = 4 + 76; // frame length + payload up to the org id's first byte

const header: Buffer = (() => {
  const h = Buffer.alloc(HEADER_BYTES);
  const p = 4; // payload start
  h.writeUInt32LE(24, p + 0);
  h.write('PDRQ', p + 4, 'latin1');
  [10, 17, 8, 16, 4].forEach((v, i) => h.writeUInt16LE(v, p + 8 + 2 * i));
  h.writeInt32LE(16, p + 24);
  h.writeUInt32LE(28, p + 28);
  h.writeUInt8(1, p + 40); // RequestBody.GetOrgPolicy
  [10, 13, 4, 12, 0].forEach((v, i) => h.writeUInt16LE(v, p + 44 + 2 * i));
  h.writeInt32LE(12, p + 56);
  h.writeUInt32LE(12, p + 60);
  return h;
})();

const TWO_TO_32 = 2 ** 32;

/**
 * The framed GetOrgPolicy request for the domain policy (what encodeGetOrgPolicy encodes without
 * kinds). `id` is a request id below 2^53.
 */
export function encodeGetOrgPolicyFast(id: number, orgId: string, strict: boolean): Buffer {
  const n = Buffer.byteLength(orgId, 'utf8');
  const size = 76 + n + 1;
  const out = Buffer.allocUnsafe(4 + size);
  header.copy(out, 0);
  out.writeUInt32LE(size, 0);
  out.writeUInt32LE(id % TWO_TO_32, 4 + 32);
  out.writeUInt32LE(Math.floor(id / TWO_TO_32), 4 + 36);
  out[4 + 68] = strict ? 1 : 0;
  out.writeUInt32LE(n, 4 + 72);
  out.write(orgId, HEADER_BYTES, n, 'utf8');
  out[HEADER_BYTES + n] = 0;
  return out;
}
