// Edits of one message (or one person's Home tab), newest only. Slack limits chat.update and
// views.publish for the whole workspace (Tier 3 and 4), and an alert storm, a run of updates or
// a person clicking between tabs asks for the same message or view many times a second: each
// asker needs it to show at least its change, not every state in between. While an edit is on
// its way (or waiting for its turn), later ones wait as one, and only the newest of them is sent.

interface Slot {
  /** The newest edit asked for while another was on its way; replaced by each newer one. */
  next?: () => Promise<void>;
  /** Whoever asked for `next` or the edits it replaced: settled with it. */
  waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export class LatestEdit {
  private slots = new Map<string, Slot>();

  /**
   * Runs `edit` for the message `key`, or, while an edit of it is on its way, runs only the
   * newest edit asked for after that one. Resolves once an edit asked for no earlier than this
   * one has been made; rejects with its error if that one failed.
   */
  edit(key: string, edit: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const slot = this.slots.get(key);
      if (slot) {
        slot.next = edit;
        slot.waiting.push({ resolve, reject });
        return;
      }
      const fresh: Slot = { next: edit, waiting: [{ resolve, reject }] };
      this.slots.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: string, slot: Slot): Promise<void> {
    while (slot.next) {
      const edit = slot.next;
      const waiting = slot.waiting.splice(0);
      slot.next = undefined;
      try {
        await edit();
        for (const w of waiting) w.resolve();
      } catch (err) {
        for (const w of waiting) w.reject(err);
      }
    }
    this.slots.delete(key);
  }
}
