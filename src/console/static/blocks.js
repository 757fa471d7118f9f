// Block Kit and Slack mrkdwn → DOM. Every piece of text goes in as a text node or through
// textContent, never as HTML: it comes from the bot, and often from what someone typed.

const ENTITIES = { lt: '<', gt: '>', amp: '&' };
/** Slack escapes &, < and > in mrkdwn; show them as the characters they stand for. */
const decode = (s) => String(s).replace(/&(lt|gt|amp);/g, (_, name) => ENTITIES[name]);

// `code`, <…> (mentions, links), then *bold*, _italic_ and ~strike~, which Slack only honours
// at word edges (so snake_case_names stay as they are).
const INLINE =
  /`([^`\n]+)`|<([^<>\n]+)>|(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)_(?![\w_])|(?<![\w~])~(?=\S)([^~\n]+?)~(?![\w~])/g;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * @param {{ userName(id: string): string, channelName(id: string): string,
 *           onButton(at: { channel: string, ts: string, actionId: string }, button: HTMLButtonElement): void }} names
 */
export function createRenderer(names) {
  /** <@U…>, <#C…|name>, <!here>, <https://…|label>: what Slack's client shows for them. */
  function angle(inner) {
    const [target, label] = splitOnce(inner, '|');
    if (target.startsWith('@')) return el('span', 'mention', `@${label ?? names.userName(target.slice(1))}`);
    if (target.startsWith('#')) return el('span', 'mention', `#${label ?? names.channelName(target.slice(1))}`);
    if (target.startsWith('!')) {
      const special = target.slice(1).split('^')[0];
      if (special === 'date') return document.createTextNode(decode(label ?? ''));
      return el('span', 'mention', label ? decode(label) : `@${special}`);
    }
    if (/^https?:\/\//i.test(target)) {
      const link = el('a', 'link', decode(label ?? target));
      link.href = decode(target);
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      return link;
    }
    return document.createTextNode(decode(`<${inner}>`));
  }

  function inline(text, parent) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.append(decode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.append(el('code', 'inline-code', decode(m[1])));
      else if (m[2] !== undefined) parent.append(angle(m[2]));
      else {
        const node = document.createElement(m[3] !== undefined ? 'strong' : m[4] !== undefined ? 'em' : 's');
        inline(m[3] ?? m[4] ?? m[5], node);
        parent.append(node);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(decode(text.slice(last)));
  }

  /** mrkdwn text as a fragment: ```code blocks``` first, inline formatting in the rest. */
  function mrkdwn(text) {
    const out = document.createDocumentFragment();
    const parts = String(text ?? '').split('```');
    parts.forEach((part, i) => {
      const fenced = i % 2 === 1;
      if (fenced && i < parts.length - 1) {
        out.append(el('pre', 'code-block', decode(part.replace(/^\n/, '').replace(/\n$/, ''))));
      } else {
        // An unmatched ``` stays as typed, as in Slack.
        inline(fenced ? '```' + part : part, out);
      }
    });
    return out;
  }

  function textObject(t, className) {
    const node = el('div', className);
    if (!t || typeof t !== 'object') return node;
    if (t.type === 'mrkdwn') node.append(mrkdwn(t.text));
    else node.textContent = String(t.text ?? '');
    return node;
  }

  function button(element, at) {
    const style = element.style === 'primary' || element.style === 'danger' ? ` btn-${element.style}` : '';
    const b = el('button', `btn${style}`, String(element.text?.text ?? 'Button'));
    b.type = 'button';
    b.addEventListener('click', () => names.onButton({ ...at, actionId: String(element.action_id ?? '') }, b));
    return b;
  }

  function element(e, at) {
    if (e?.type === 'button') return button(e, at);
    if (e?.type === 'image') return el('span', 'image-alt', `🖼 ${e.alt_text ?? 'image'}`);
    if (e?.type === 'mrkdwn' || e?.type === 'plain_text') {
      const span = el('span');
      span.append(textObject(e, 'inline'));
      return span;
    }
    return el('span', 'unsupported', `[${String(e?.type ?? 'element')}]`);
  }

  /** One message's blocks. `at` says which message, for the buttons. */
  function blocks(list, at) {
    const out = document.createDocumentFragment();
    for (const b of list) {
      if (!b || typeof b !== 'object') continue;
      switch (b.type) {
        case 'header':
          out.append(el('div', 'b-header', String(b.text?.text ?? '')));
          break;
        case 'section': {
          const section = el('div', 'b-section');
          const body = el('div', 'b-section-body');
          if (b.text) body.append(textObject(b.text, 'b-text'));
          if (Array.isArray(b.fields)) {
            const fields = el('div', 'b-fields');
            for (const f of b.fields) fields.append(textObject(f, 'b-field'));
            body.append(fields);
          }
          section.append(body);
          if (b.accessory) section.append(element(b.accessory, at));
          out.append(section);
          break;
        }
        case 'context': {
          const context = el('div', 'b-context');
          for (const e of Array.isArray(b.elements) ? b.elements : []) context.append(element(e, at));
          out.append(context);
          break;
        }
        case 'divider':
          out.append(el('hr', 'b-divider'));
          break;
        case 'actions': {
          const actions = el('div', 'b-actions');
          for (const e of Array.isArray(b.elements) ? b.elements : []) actions.append(element(e, at));
          out.append(actions);
          break;
        }
        case 'image':
          out.append(el('div', 'b-image', `🖼 ${b.alt_text ?? 'image'}`));
          break;
        default:
          out.append(el('div', 'unsupported', `[${String(b.type)} block]`));
      }
    }
    return out;
  }

  return { mrkdwn, blocks };
}

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
