// The sandbox and the local console are development code: the image's build deletes them
// (Dockerfile), and the bot reaches them only through here, by dynamic import.

export const DEV_ONLY_MISSING = 'is development code, left out of this image: run it from a clone of the repository (npm install, then npx vlinders-ops --sandbox … or npm start).';

/** The module, or undefined when this installation left the development code out. */
export async function importDevOnly<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /[/\\](?:sandbox|console)[/\\]/.test(e.message)) return undefined;
    throw err;
  }
}
