// Prints an HS256 JWT for a user: node scripts/mint-token.mjs <userId> [ttlSeconds]
// Reads JWT_SECRET from the environment. For local use and demos.
import { SignJWT } from 'jose';

const [userId = 'demo', ttl = '86400'] = process.argv.slice(2);
const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error('mint-token: JWT_SECRET is required');
  process.exit(1);
}
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + Number(ttl))
  .sign(new TextEncoder().encode(secret));
console.log(token);
