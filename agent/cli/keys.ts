// `hanfs secret generate` and `hanfs key generate|show`: the pair's shared secret (made once, copied to the partner)
// and each server's own signing key (made on each server; its public key goes into the pair's config, for client
// watchers). Both files are root's alone, and neither command overwrites a file.
import type { Command } from 'commander';
import { generateSigningKey, loadSigningKey, publicKeyText } from '../net/keys.ts';
import { generateSecret } from '../net/secret.ts';

async function run(what: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.error(`hanfs ${what}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

export function registerKeyCommands(program: Command): void {
  program
    .command('secret')
    .description("the pair's shared secret")
    .command('generate')
    .description('write 32 random bytes (hex) to a new file, mode 0600; copy it to the partner, never to a client')
    .argument('[file]', 'where to write it', '/etc/hanfs/secret')
    .action((file: string) => run('secret generate', async () => {
      await generateSecret(file);
      console.log(`wrote ${file}`);
    }));
  const key = program.command('key').description("this server's signing key, which client watchers verify heartbeats with");
  key
    .command('generate')
    .description("write a new Ed25519 key to a new file, mode 0600, and print the line for this node in the pair's config")
    .argument('[file]', 'where to write it (the config\'s signingKeyFile)', '/etc/hanfs/signing.key')
    .action((file: string) => run('key generate', async () => {
      console.log(`publicKey: ${await generateSigningKey(file)}`);
    }));
  key
    .command('show')
    .description("print the public key of an existing signing key, as the pair's config takes it")
    .argument('[file]', 'the signing key file', '/etc/hanfs/signing.key')
    .action((file: string) => run('key show', async () => {
      console.log(`publicKey: ${publicKeyText(await loadSigningKey(file))}`);
    }));
}
