"""A user's tour of Portico through the official Python `openai` SDK, unchanged.

Run by test/e2e/python-sdk.test.ts, which starts Portico in front of an OpenAI simulator and reads
the JSON this prints: chat (plain and streamed), embeddings (the SDK's default base64), responses
(create, stream, retrieve, input items, continue, cancel), files (upload, list, retrieve, content,
delete; a file sent in parts with `uploads.upload_file_chunked`) and batches (create, retrieve, list, cancel), each as the SDK's own methods do it.

Environment: PORTICO_BASE_URL (".../v1"), PORTICO_API_KEY, PORTICO_MODEL, PORTICO_EMBEDDING_MODEL.
"""
import io
import json
import os
import sys

import openai

client = openai.OpenAI(api_key=os.environ["PORTICO_API_KEY"], base_url=os.environ["PORTICO_BASE_URL"], max_retries=0)
model = os.environ["PORTICO_MODEL"]
seen = {"sdk_version": openai.__version__}

chat = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello from Python"}])
seen["chat"] = chat.choices[0].message.content
parts = [c.choices[0].delta.content or "" for c in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Stream from Python"}], stream=True) if c.choices]
seen["chat_stream"] = "".join(parts)

embedding = client.embeddings.create(model=os.environ["PORTICO_EMBEDDING_MODEL"], input=["one", "two"])
seen["embeddings"] = [len(item.embedding) for item in embedding.data]

response = client.responses.create(model=model, input="Remember the heron")
seen["response_text"] = response.output_text
seen["response_retrieved"] = client.responses.retrieve(response.id).id == response.id
seen["response_input_items"] = [item.type for item in client.responses.input_items.list(response.id).data]
follow_up = client.responses.create(model=model, input="And then?", previous_response_id=response.id)
seen["response_continued"] = follow_up.previous_response_id == response.id
with client.responses.stream(model=model, input="Streamed response") as stream:
    for _ in stream:
        pass
    final = stream.get_final_response()
seen["response_stream_text"] = final.output_text
background = client.responses.create(model=model, input="Later", background=True)
seen["response_cancelled"] = client.responses.cancel(background.id).status
client.responses.delete(response.id)
try:
    client.responses.retrieve(response.id)
    seen["response_deleted"] = False
except openai.NotFoundError:
    seen["response_deleted"] = True

lines = [json.dumps({"custom_id": f"line-{i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": model, "messages": [{"role": "user", "content": f"batch line {i}"}]}}) for i in range(3)]
payload = "\n".join(lines).encode()
uploaded = client.files.create(file=("input.jsonl", io.BytesIO(payload), "application/jsonl"), purpose="batch")
seen["file_uploaded"] = {"id_prefix": uploaded.id[:5], "bytes_match": uploaded.bytes == len(payload), "filename": uploaded.filename, "purpose": uploaded.purpose}
seen["file_listed"] = any(f.id == uploaded.id for f in client.files.list(purpose="batch"))
seen["file_retrieved"] = client.files.retrieve(uploaded.id).id == uploaded.id
seen["file_content"] = client.files.content(uploaded.id).text == "\n".join(lines)

batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"from": "python"})
seen["batch_created"] = {"id_prefix": batch.id[:6], "status": batch.status, "metadata": batch.metadata}
seen["batch_retrieved"] = client.batches.retrieve(batch.id).id == batch.id
seen["batch_listed"] = any(b.id == batch.id for b in client.batches.list(limit=10))
cancelled = client.batches.cancel(batch.id)
seen["batch_cancelled"] = cancelled.status in ("cancelling", "cancelled")

chunked_payload = "\n".join(json.dumps({"custom_id": f"chunked-{i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": model, "messages": [{"role": "user", "content": f"line {i}"}]}}) for i in range(200)).encode()
chunked = client.uploads.upload_file_chunked(file=chunked_payload, filename="chunked.jsonl", bytes=len(chunked_payload), mime_type="text/jsonl", purpose="batch", part_size=8192)
seen["upload_chunked"] = {"status": chunked.status, "file_bytes_match": chunked.file.bytes == len(chunked_payload), "content_match": client.files.content(chunked.file.id).content == chunked_payload}

other = client.files.create(file=("other.jsonl", io.BytesIO(lines[0].encode()), "application/jsonl"), purpose="batch")
seen["file_deleted"] = client.files.delete(other.id).deleted
try:
    client.files.retrieve(other.id)
    seen["file_gone"] = False
except openai.NotFoundError:
    seen["file_gone"] = True

json.dump(seen, sys.stdout)
