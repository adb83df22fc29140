import test from 'node:test';
import assert from 'node:assert/strict';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { applyIp, openIpLookup, truncateIp, type IpLookup } from '../src/collect/steps/ip.js';

test('truncateIp zeroes the host part of IPv4', () => {
  assert.equal(truncateIp('203.0.113.42'), '203.0.113.0');
  assert.equal(truncateIp('8.8.8.8'), '8.8.8.0');
  assert.equal(truncateIp('255.255.255.255'), '255.255.255.0');
  assert.equal(truncateIp(' 90.1.2.3 '), '90.1.2.0');
});

test('truncateIp keeps 48 bits of IPv6 and prints the RFC 5952 form', () => {
  assert.equal(truncateIp('2001:0db8:85a3:08d3:1319:8a2e:0370:7348'), '2001:db8:85a3::');
  assert.equal(truncateIp('2001:4860:4860::8888'), '2001:4860:4860::');
  assert.equal(truncateIp('2A01:E00:1:2:3:4:5:6'), '2a01:e00:1::');
  assert.equal(truncateIp('2a01:e00::1'), '2a01:e00::');
  assert.equal(truncateIp('::1'), '::');
  assert.equal(truncateIp('0:0:1:2:3:4:5:6'), '0:0:1::');
  assert.equal(truncateIp('1:2:3:4:5:6:1.2.3.4'), '1:2:3::');
  assert.equal(truncateIp('fe80::1%eth0'), 'fe80::');
});

test('truncateIp treats IPv4-mapped IPv6 as IPv4', () => {
  assert.equal(truncateIp('::ffff:1.2.3.4'), '1.2.3.0');
  assert.equal(truncateIp('::FFFF:5.6.7.8'), '5.6.7.0');
  assert.equal(truncateIp('0:0:0:0:0:ffff:0102:0304'), '1.2.3.0');
});

test('truncateIp returns "" for anything that is not an address', () => {
  for (const bad of [
    '', ' ', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', '1.2.3.4:8080',
    '[::1]', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':1::', '1:::2', 'g::1', '::ffff:1.2.3',
    '1.2.3.4::', 'x'.repeat(100_000),
  ]) {
    assert.equal(truncateIp(bad), '', JSON.stringify(bad.slice(0, 40)));
  }
});

test('property: truncateIp of any IPv4 keeps the first three octets, zeroes the last, and is idempotent', () => {
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      const truncated = truncateIp(ip);
      assert.equal(truncated, `${ip.split('.').slice(0, 3).join('.')}.0`);
      assert.equal(truncateIp(truncated), truncated);
    }),
  );
});

const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

test('property: truncateIp of any IPv6 is the canonical /48 that contains it, and is idempotent', () => {
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const truncated = truncateIp(ip);
      assert.equal(truncateIp(truncated), truncated);
      if (MAPPED.check(ip, 'ipv6')) {
        // IPv4-mapped addresses come back as the IPv4 they carry.
        assert.ok(isIPv4(truncated), truncated);
        return;
      }
      assert.ok(isIPv6(truncated), truncated);
      const prefix = new BlockList();
      prefix.addSubnet(truncated, 48, 'ipv6');
      assert.ok(prefix.check(ip, 'ipv6'), `${ip} not in ${truncated}/48`);
      // WHATWG URL serialises IPv6 hosts in the same compressed canonical form.
      assert.equal(new URL(`http://[${truncated}]/`).hostname, `[${truncated}]`);
    }),
  );
});

test('property: truncateIp never throws and returns "" or a valid address', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.ipV4Extended(), fc.ipV6()), (s) => {
      const truncated = truncateIp(s);
      assert.ok(truncated === '' || isIP(truncated) !== 0, truncated);
    }),
  );
});

let lookup: IpLookup;
test.before(async () => {
  lookup = await openIpLookup();
});

test('openIpLookup loads the database once', async () => {
  assert.equal(await openIpLookup(), lookup);
});

test('country of well-known public addresses', () => {
  // Checked against the bundled database; all are long-held RIR allocations.
  assert.equal(lookup.country('8.8.8.8'), 'US'); // Google (ARIN)
  assert.equal(lookup.country('2001:4860:4860::8888'), 'US'); // Google
  assert.equal(lookup.country('90.1.2.3'), 'FR'); // Orange, 90.0.0.0/9
  assert.equal(lookup.country('2a01:cb00::1'), 'FR'); // Orange
  assert.equal(lookup.country('2a01:e00::1'), 'FR'); // Free, 2a01:e00::/26
  assert.equal(lookup.country('193.0.6.139'), 'NL'); // RIPE NCC
  assert.equal(lookup.country('2003::1'), 'DE'); // Deutsche Telekom
  assert.equal(lookup.country('::ffff:8.8.8.8'), 'US'); // mapped form is looked up as IPv4
});

test('private, special-purpose and invalid addresses have no country', () => {
  for (const ip of [
    '10.0.0.1', '10.255.255.255', '127.0.0.1', '172.16.5.4', '100.64.0.1', '169.254.1.1', '0.0.0.0',
    '255.255.255.255', '224.0.0.1', '198.51.100.7', '::', '::1', 'fe80::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:10.0.0.1', 'not-an-ip', '1.2.3', '',
    // The bundled whois data wrongly answers these two; the range check keeps them out.
    '192.168.1.1', '2001:db8::1',
  ]) {
    assert.equal(lookup.country(ip), null, ip);
  }
});

test('property: country is null or two upper-case letters, and private 10.x is always null', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), (ip) => {
      const country = lookup.country(ip);
      assert.ok(country === null || /^[A-Z]{2}$/.test(country), String(country));
    }),
  );
  fc.assert(
    fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (b, c, d) => {
      assert.equal(lookup.country(`10.${b}.${c}.${d}`), null);
    }),
  );
});

test('applyIp prefers context.ip, looks up the full address, then truncates', () => {
  const context = { ip: '90.1.2.3', locale: 'fr-FR' };
  const result = applyIp(context, '8.8.8.8', lookup, { truncate: true });
  assert.deepEqual(result, { context: { ip: '90.1.2.0', locale: 'fr-FR' }, country: 'FR' });
});

test('applyIp falls back to the request address', () => {
  assert.deepEqual(applyIp({}, '8.8.8.8', lookup, { truncate: true }), { context: { ip: '8.8.8.0' }, country: 'US' });
  // A non-string or empty context.ip is not an address: the request's wins.
  assert.deepEqual(applyIp({ ip: 42 }, '2001:4860:4860::8888', lookup, { truncate: true }), {
    context: { ip: '2001:4860:4860::' },
    country: 'US',
  });
  assert.deepEqual(applyIp({ ip: '' }, '::ffff:90.1.2.3', lookup, { truncate: true }), {
    context: { ip: '90.1.2.0' },
    country: 'FR',
  });
});

test('applyIp keeps the full address when truncation is off', () => {
  assert.deepEqual(applyIp({ ip: '90.1.2.3' }, undefined, lookup, { truncate: false }), {
    context: { ip: '90.1.2.3' },
    country: 'FR',
  });
});

test('applyIp stores no ip when there is no usable address', () => {
  assert.deepEqual(applyIp({ page: {} }, undefined, lookup, { truncate: true }), { context: { page: {} }, country: null });
  // Something that is not an address (here with a port) must not be stored whole.
  assert.deepEqual(applyIp({ ip: '90.1.2.3:443' }, '8.8.8.8', lookup, { truncate: true }), { context: {}, country: null });
  assert.deepEqual(applyIp({ ip: 7 }, undefined, lookup, { truncate: true }), { context: {}, country: null });
});

test('applyIp does not mutate its input', () => {
  const context = { ip: '90.1.2.3', page: { url: 'https://example.com/' } };
  const before = structuredClone(context);
  const result = applyIp(context, '8.8.8.8', lookup, { truncate: true });
  assert.deepEqual(context, before);
  assert.notEqual(result.context, context);
  // Shallow copy: nested objects are shared, which is fine because nothing writes to them.
  assert.equal(result.context['page'], context.page);
});
