import { EntitySchema } from 'typeorm';

/** A multiparty conversation, reachable over SIP at `conf-<id>@<site>`. */
export interface ImConversation {
  id: string;
  site: string;
  subject: string;
  createdBy: string;
  createdAt: string;
}

export const ImConversationEntity = new EntitySchema<ImConversation>({
  name: 'ImConversation',
  tableName: 'im_conversations',
  columns: {
    id: { type: 'varchar', length: 32, primary: true },
    site: { type: 'varchar', length: 255 },
    subject: { type: 'varchar', length: 255 },
    createdBy: { type: 'varchar', length: 255, name: 'created_by' },
    createdAt: { type: 'varchar', length: 24, name: 'created_at' },
  },
});

export interface ImMember {
  id: number;
  conversationId: string;
  username: string;
  joinedAt: string;
}

export const ImMemberEntity = new EntitySchema<ImMember>({
  name: 'ImMember',
  tableName: 'im_members',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    conversationId: { type: 'varchar', length: 32, name: 'conversation_id' },
    username: { type: 'varchar', length: 255 },
    joinedAt: { type: 'varchar', length: 24, name: 'joined_at' },
  },
  uniques: [{ name: 'uq_im_members_conversation_user', columns: ['conversationId', 'username'] }],
});
