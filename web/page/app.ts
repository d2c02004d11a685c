/**
 * The web chat page: log in, channels, direct messages, members. Everything a
 * user sent reaches the DOM through `textContent`, never as HTML.
 */
import { ParleyBrowserClient, type ServerMessage } from '../client/index.js';
import { VoiceSession, voiceSupport } from './voice.js';

/** The one talk this page is in: a 1:1 call (calling, then active) or a channel's group voice. */
type Talk = { kind: 'call'; peer: string; key: string; active: boolean } | { kind: 'group'; channel: string; key: string };

interface Conversation {
  /** `#channel` or a nick, as the server spells it. */
  name: string;
  lines: { from: string; text: string; notice?: boolean }[];
  unread: number;
  /** Channel members; undefined for a direct conversation. */
  members?: Set<string>;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $('status');
const conversations = new Map<string, Conversation>();
let client: ParleyBrowserClient | undefined;
let current: string | undefined;
let talk: Talk | undefined;
let incoming: { peer: string; key: string } | undefined;
let voice: VoiceSession | undefined;
/** Why this browser cannot talk, or undefined when it can. */
let noVoice: string | undefined = 'checking audio support';
void voiceSupport().then(
  (why) => ((noVoice = why), render()),
  (err: unknown) => ((noVoice = String(err)), render()),
);

const key = (name: string): string => name.toLowerCase();

function conversation(name: string): Conversation {
  let c = conversations.get(key(name));
  if (!c) {
    c = { name, lines: [], unread: 0 };
    if (name.startsWith('#')) c.members = new Set();
    conversations.set(key(name), c);
  }
  return c;
}

function add(name: string, from: string, text: string, notice = false): void {
  const c = conversation(name);
  c.lines.push(notice ? { from, text, notice } : { from, text });
  if (current !== key(name)) c.unread++;
  render();
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', cls = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function render(): void {
  const list = $('conversations');
  list.replaceChildren();
  for (const [k, c] of conversations) {
    const li = el('li');
    li.dataset.conv = k;
    if (k === current) li.classList.add('current');
    li.append(el('span', c.members ? c.name : `@${c.name}`));
    if (c.unread > 0 && k !== current) li.append(el('span', String(c.unread), 'unread'));
    if (c.members) {
      const leave = el('button', '×');
      leave.title = `leave ${c.name}`;
      leave.dataset.leave = k;
      leave.addEventListener('click', (ev) => {
        ev.stopPropagation();
        void act(() => client!.leave(c.name));
      });
      li.append(leave);
    }
    li.addEventListener('click', () => select(k));
    list.append(li);
  }
  const c = current === undefined ? undefined : conversations.get(current);
  $('title').textContent = c ? (c.members ? c.name : `direct: ${c.name}`) : '';
  const msgs = $('messages');
  msgs.replaceChildren();
  for (const line of c?.lines ?? []) {
    const li = el('li', '', line.notice ? 'msg notice' : 'msg');
    li.append(el('span', line.from, 'from'), el('span', line.text, 'text'));
    msgs.append(li);
  }
  msgs.scrollTop = msgs.scrollHeight;
  const members = $('members');
  members.replaceChildren();
  for (const nick of [...(c?.members ?? [])].sort()) {
    const li = el('li', nick);
    li.dataset.nick = nick;
    li.title = `message ${nick}`;
    if (nick !== client?.nick) li.addEventListener('click', () => select(key(conversation(nick).name)));
    members.append(li);
  }
  renderVoice(c);
}

function renderVoice(c: Conversation | undefined): void {
  const canTalk = client !== undefined && noVoice === undefined && talk === undefined;
  $('call-btn').hidden = !(canTalk && c !== undefined && !c.members);
  $('voice-btn').hidden = !(canTalk && c?.members !== undefined);
  $('hangup-btn').hidden = talk === undefined;
  $('voice-status').textContent =
    talk === undefined
      ? noVoice && client && noVoice !== 'checking audio support'
        ? `no voice: ${noVoice}`
        : ''
      : talk.kind === 'group'
        ? `in voice: ${talk.channel}`
        : talk.active
          ? `in a call with ${talk.peer}`
          : `calling ${talk.peer}...`;
  $('incoming').hidden = incoming === undefined;
  $('incoming-text').textContent = incoming ? `${incoming.peer} is calling` : '';
}

async function startVoice(key: string): Promise<void> {
  try {
    voice = await VoiceSession.start(client!, key);
  } catch (err) {
    status.textContent = `microphone: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Stops the audio (sending what the encoder holds) before the talk ends on the wire. */
async function stopVoice(): Promise<void> {
  const v = voice;
  voice = undefined;
  await v?.stop();
}

function onTalk(m: Extract<ServerMessage, { type: 'TALK' }>): void {
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  switch (m.event) {
    case 'REQUEST':
      if (talk?.kind === 'call' && same(talk.peer, m.peer)) return; // our own request's echo
      if (talk !== undefined || incoming !== undefined) client!.talkDeny(m.peer, m.key);
      else incoming = { peer: m.peer, key: m.key };
      break;
    case 'ACCEPTED':
      if (talk?.kind === 'call' && same(talk.peer, m.peer)) {
        talk.active = true;
        void startVoice(talk.key);
      }
      break;
    case 'DENIED':
      if (talk?.kind === 'call' && same(talk.peer, m.peer)) {
        talk = undefined;
        status.textContent = `${m.peer} declined the call`;
      }
      break;
    case 'ENDED':
      if (incoming && same(incoming.peer, m.peer)) incoming = undefined;
      if (talk?.kind === 'call' && same(talk.peer, m.peer)) {
        talk = undefined;
        void stopVoice();
      }
      break;
    default:
      return;
  }
  render();
}

function select(k: string): void {
  current = k;
  const c = conversations.get(k);
  if (c) c.unread = 0;
  render();
  $<HTMLInputElement>('msg-input').focus();
}

/** Runs a request; a refusal goes to the status line. */
async function act(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (err) {
    status.textContent = err instanceof Error ? err.message : String(err);
  }
}

function onMessage(m: ServerMessage): void {
  const me = client!.nick;
  switch (m.type) {
    case 'JOINED':
      conversation(m.channel);
      current = key(m.channel);
      break;
    case 'USERLIST':
      conversation(m.channel).members = new Set(m.nicks);
      break;
    case 'USERJOIN':
      conversation(m.channel).members?.add(m.nick);
      add(m.channel, '', `${m.nick} joined`, true);
      return;
    case 'USERLEAVE':
      conversation(m.channel).members?.delete(m.nick);
      add(m.channel, '', `${m.nick} left`, true);
      return;
    case 'LEFT':
      conversations.delete(key(m.channel));
      if (current === key(m.channel)) current = conversations.keys().next().value;
      break;
    case 'MSG':
      add(m.recipient.startsWith('#') ? m.recipient : m.sender === me ? m.recipient : m.sender, m.sender, m.text);
      return;
    case 'TALK':
      onTalk(m);
      return;
    case 'TALKLEAVE':
      if (talk?.kind === 'group' && m.nick === me && key(m.channel) === key(talk.channel)) {
        talk = undefined;
        void stopVoice();
      }
      break;
    case 'ERROR':
      status.textContent = `${m.code}: ${m.text}`;
      return;
    case 'DISCONNECT':
      status.textContent = `disconnected: ${m.reason}`;
      return;
    default:
      return;
  }
  render();
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nick = $<HTMLInputElement>('login-nick').value.trim();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/parley`;
  status.textContent = 'connecting...';
  void act(async () => {
    // Subscribed before CONNECT's reply is processed: the auto-join follows ACCEPT in the same message.
    const c = await ParleyBrowserClient.connect(url, nick);
    client = c;
    document.title = `parley: ${nick}`;
    status.textContent = `connected as ${nick}`;
    $('login').hidden = true;
    $('chat').hidden = false;
    for (const m of c.inbox()) onMessage(m);
    c.subscribe(onMessage);
    void c.done.then((reason) => (status.textContent = `disconnected${reason ? `: ${reason}` : ''}`));
    render();
  });
});

$('join').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('join-input');
  const name = input.value.trim();
  if (!name || !client) return;
  const channel = name.startsWith('#') ? name : `#${name}`;
  input.value = '';
  void act(() => client!.join(channel));
});

$('send').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('msg-input');
  const c = current === undefined ? undefined : conversations.get(current);
  if (!client || !c || input.value === '') return;
  const text = input.value;
  input.value = '';
  void act(async () => {
    client!.say(c.name, text);
    add(c.name, client!.nick, text);
  });
});

$('call-btn').addEventListener('click', () => {
  const c = current === undefined ? undefined : conversations.get(current);
  if (!client || !c || c.members || talk) return;
  const t: Talk = { kind: 'call', peer: c.name, key: '', active: false };
  talk = t;
  render();
  void act(async () => {
    try {
      t.key = await client!.talkRequest(c.name);
    } catch (err) {
      if (talk === t) talk = undefined;
      render();
      throw err;
    }
  });
});

$('answer-btn').addEventListener('click', () => {
  const inc = incoming;
  if (!client || !inc) return;
  incoming = undefined;
  talk = { kind: 'call', peer: inc.peer, key: inc.key, active: true };
  client.talkAccept(inc.peer, inc.key);
  render();
  void startVoice(inc.key);
});

$('decline-btn').addEventListener('click', () => {
  if (!client || !incoming) return;
  client.talkDeny(incoming.peer, incoming.key);
  incoming = undefined;
  render();
});

$('hangup-btn').addEventListener('click', () => {
  const t = talk;
  if (!client || !t) return;
  talk = undefined;
  render();
  void act(async () => {
    await stopVoice();
    if (t.key) client!.talkEnd(t.kind === 'call' ? t.peer : t.channel, t.key);
  });
});

$('voice-btn').addEventListener('click', () => {
  const c = current === undefined ? undefined : conversations.get(current);
  if (!client || !c?.members || talk) return;
  void act(async () => {
    const { key: k } = await client!.talkJoin(c.name);
    talk = { kind: 'group', channel: c.name, key: k };
    render();
    await startVoice(k);
  });
});
