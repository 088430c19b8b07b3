// cap 0.2.1 (Brian White, MIT; see ../LICENSE), vendored and changed for shadowtap.
// What changed and why: ../README.md. POSIX (libpcap) only; the WinPcap code is gone.
#include <node.h>
#include <node_buffer.h>
#include <nan.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#if defined(__APPLE_CC__) || defined(__APPLE__)
# include <net/bpf.h>
#endif

using namespace node;
using namespace v8;

static Nan::Persistent<FunctionTemplate> constructor;
static Nan::Persistent<String> emit_symbol;
static Nan::Persistent<String> packet_symbol;
static Nan::Persistent<String> error_symbol;

static void SetAddrStringHelper(const char* key,
                                sockaddr *addr,
                                Local<Object> Address) {
  if (key && addr) {
    char dst_addr[INET6_ADDRSTRLEN + 1] = {0};
    char* src = 0;
    socklen_t size = 0;
    if (addr->sa_family == AF_INET) {
      struct sockaddr_in* saddr = (struct sockaddr_in*) addr;
      src = (char*) &(saddr->sin_addr);
      size = INET_ADDRSTRLEN;
    } else {
      struct sockaddr_in6* saddr6 = (struct sockaddr_in6*) addr;
      src = (char*) &(saddr6->sin6_addr);
      size = INET6_ADDRSTRLEN;
    }
    const char* address = inet_ntop(addr->sa_family, src, dst_addr, size);
    if (address == nullptr) {
      Nan::Set(Address,
               Nan::New<String>(key).ToLocalChecked(),
               Nan::Undefined()).FromJust();
    } else {
      Nan::Set(Address,
               Nan::New<String>(key).ToLocalChecked(),
               Nan::New<String>(address).ToLocalChecked()).FromJust();
    }
  }
}

// The uv_poll_t lives on the heap and is freed by its own close callback, so it
// outlives neither more nor less than libuv needs (0.2.1 embedded it in the object,
// never uv_close()d it, and re-initialised it on a second open()).
static void OnPollClosed(uv_handle_t* handle) {
  delete reinterpret_cast<uv_poll_t*>(handle);
}

class Pcap : public Nan::ObjectWrap {
  public:
    Nan::Persistent<Function> Emit;
    // The JS Buffer packets are copied into: held so that it cannot be collected
    // while libpcap writes into it.
    Nan::Persistent<Object> buffer_ref;
    Nan::AsyncResource async_res;
    // Open handle, or nullptr. A handle that failed (an 'error' was emitted) stays
    // here, not polled, until close(), so that stats() can still read it.
    pcap_t *pcap_handle;
    // Active poll on pcap_handle's descriptor, or nullptr (closed, failed, never opened).
    uv_poll_t *poll_handle;
    // Inside pcap_dispatch (packet or error listeners run): close() must defer pcap_close.
    bool handling_packets;
    // close() was called while handling_packets.
    bool closing;
    // Ref() taken by a successful open(); released exactly once by release().
    bool refd;

    char *buffer_data;
    size_t buffer_length;

    Pcap() : async_res("cap:packet") {
      pcap_handle = nullptr;
      poll_handle = nullptr;
      buffer_data = nullptr;
      buffer_length = 0;
      closing = false;
      handling_packets = false;
      refd = false;
    }

    ~Pcap() {
      // Only reached when unreferenced, i.e. never opened, closed, or open() failed.
      stopPolling();
      if (pcap_handle) {
        pcap_close(pcap_handle);
        pcap_handle = nullptr;
      }
      buffer_ref.Reset();
      Emit.Reset();
    }

    void stopPolling() {
      if (poll_handle) {
        uv_poll_stop(poll_handle);
        uv_close(reinterpret_cast<uv_handle_t*>(poll_handle), OnPollClosed);
        poll_handle = nullptr;
      }
    }

    // Safe in every state: never opened, open, failed, already closed, and from a
    // packet/error listener (then pcap_close runs when pcap_dispatch returns).
    // True when this call closed an open handle.
    bool close() {
      if (!pcap_handle || closing)
        return false;
      stopPolling();
      if (handling_packets) {
        closing = true;
        return true;
      }
      release();
      return true;
    }

    void release() {
      if (pcap_handle) {
        pcap_close(pcap_handle);
        pcap_handle = nullptr;
      }
      buffer_data = nullptr;
      buffer_length = 0;
      buffer_ref.Reset();
      closing = false;
      if (refd) {
        refd = false;
        Unref();
      }
    }

    void EmitError(const char* message) {
      Nan::HandleScope scope;
      Local<Value> emit_argv[2] = {
        Nan::New<String>(error_symbol),
        Nan::Error(message)
      };
      async_res.runInAsyncScope(
        Nan::New<Object>(persistent()),
        Nan::New<Function>(Emit),
        2,
        emit_argv
      );
    }

    static void EmitPacket(u_char* user,
                           const struct pcap_pkthdr* pkt_hdr,
                           const u_char* pkt_data) {
      Nan::HandleScope scope;
      Pcap *obj = (Pcap*) user;

      size_t copy_len = pkt_hdr->caplen;
      bool truncated = false;
      if (copy_len > obj->buffer_length) {
        copy_len = obj->buffer_length;
        truncated = true;
      }
      memcpy(obj->buffer_data, pkt_data, copy_len);

      Local<Value> emit_argv[3] = {
        Nan::New<String>(packet_symbol),
        Nan::New<Number>(copy_len),
        Nan::New<Boolean>(truncated)
      };
      obj->async_res.runInAsyncScope(
        Nan::New<Object>(obj->persistent()),
        Nan::New<Function>(obj->Emit),
        3,
        emit_argv
      );
    }

    // 0.2.1 did assert(status == 0) here: a poll error (libuv reports POLLERR as
    // UV_EBADF, which is what an interface that goes down or is deleted produces)
    // aborted the process. Now: read what is left, take libpcap's own message, stop
    // polling and emit 'error'; the handle stays until close().
    static void cb_packets(uv_poll_t* handle, int status, int events) {
      Pcap *obj = (Pcap*)handle->data;
      if (obj == nullptr || obj->pcap_handle == nullptr || obj->closing)
        return;

      int packet_count = 0;
      obj->handling_packets = true;
      if (status < 0 || (events & UV_READABLE)) {
        // With an error pending, pcap_dispatch (non-blocking) returns PCAP_ERROR and
        // sets the message ("The interface went down", "The interface disappeared").
        do {
          packet_count = pcap_dispatch(obj->pcap_handle,
                                       1,
                                       Pcap::EmitPacket,
                                       (u_char*)obj);
        } while (packet_count > 0 && !obj->closing);
      }

      if (!obj->closing && (packet_count == PCAP_ERROR || status < 0)) {
        char message[PCAP_ERRBUF_SIZE + 64];
        if (packet_count == PCAP_ERROR) {
          snprintf(message, sizeof(message), "%s", pcap_geterr(obj->pcap_handle));
        } else {
          // libpcap saw no fatal error (on Linux: the interface went down but still
          // exists; libpcap would resume when it is up again), but libuv has stopped
          // polling on the error, so this handle delivers nothing more.
          snprintf(message, sizeof(message),
                   "the capture socket reported an error (%s); the interface probably went down",
                   uv_strerror(status));
        }
        obj->stopPolling();
        obj->EmitError(message);
      }

      obj->handling_packets = false;
      if (obj->closing)
        obj->release();
    }

    static NAN_METHOD(New) {
      if (!info.IsConstructCall())
        return Nan::ThrowError("Use `new` to create instances of this object");

      Pcap *obj = new Pcap();
      obj->Wrap(info.This());

      obj->Emit.Reset(Local<Function>::Cast(
        Nan::Get(Nan::New<Object>(obj->persistent()),
                 Nan::New<String>(emit_symbol)).ToLocalChecked()
      ));

      info.GetReturnValue().Set(info.This());
    }

    static NAN_METHOD(Send) {
      Pcap *obj = Nan::ObjectWrap::Unwrap<Pcap>(info.This());
      size_t buffer_size = 0;

      if (obj->pcap_handle == nullptr)
        return Nan::ThrowError("Not currently capturing/open");

      if (info.Length() == 0)
        return Nan::ThrowTypeError("the first parameter must be a buffer");

      if (!Buffer::HasInstance(info[0]))
        return Nan::ThrowTypeError("first parameter must be a buffer");

      if (info.Length() >= 2) {
        if (!info[1]->IsUint32())
          return Nan::ThrowTypeError("length must be a positive integer");

        buffer_size = Nan::To<uint32_t>(info[1]).FromJust();
      }

      Local<Value> buffer_obj = info[0];
      if (info.Length() == 1)
        buffer_size = Buffer::Length(buffer_obj);
      else {
        if (buffer_size > Buffer::Length(buffer_obj)) {
          return Nan::ThrowTypeError(
            "size must be smaller or equal to buffer length"
          );
        }
      }

      if (pcap_sendpacket(obj->pcap_handle,
                          (const u_char*)(Buffer::Data(buffer_obj)),
                          (int)buffer_size) == -1) {
        return Nan::ThrowError(pcap_geterr(obj->pcap_handle));
      }

      return;
    }

    // Throws libpcap's message for `p`, after closing `p` (0.2.1 left the half-open
    // handle in place, and a later close() or the destructor then stopped a uv_poll_t
    // that was never initialised: abort).
    static void FailOpen(pcap_t* p, const char* message) {
      char copy[PCAP_ERRBUF_SIZE + 64];
      snprintf(copy, sizeof(copy), "%s", message);
      if (p)
        pcap_close(p);
      Nan::ThrowError(copy);
    }

    static NAN_METHOD(Open) {
      Pcap *obj = Nan::ObjectWrap::Unwrap<Pcap>(info.This());

      if (obj->handling_packets)
        return Nan::ThrowError("open() cannot be called from this handle's own packet or error listener");

      if (obj->pcap_handle)
        obj->close();

      if (info.Length() < 4)
        return Nan::ThrowTypeError("Expecting 4 arguments");

      if (!info[0]->IsString())
        return Nan::ThrowTypeError("device must be a string");

      if (!info[1]->IsString())
        return Nan::ThrowTypeError("filter must be a string");

      if (!info[2]->IsUint32())
        return Nan::ThrowTypeError("bufSize must be a positive integer");

      if (!Buffer::HasInstance(info[3]))
        return Nan::ThrowTypeError("buffer must be a Buffer");

      Nan::Utf8String device(info[0]);
      Nan::Utf8String filter(info[1]);
      int buffer_size = Nan::To<int32_t>(info[2]).FromJust();
      Local<Object> buffer_obj = info[3].As<Object>();
      struct bpf_program fp;
      bpf_u_int32 mask;
      bpf_u_int32 net;
      char errbuf[PCAP_ERRBUF_SIZE];
      errbuf[0] = '\0';

      // 0.2.1 printed a warning to stderr when the device has no IPv4 address (every
      // veth without one) and passed the network, not the netmask, to pcap_compile.
      if (pcap_lookupnet((char*)*device, &net, &mask, errbuf) == -1)
        mask = PCAP_NETMASK_UNKNOWN;

      pcap_t* p = pcap_create((char*)*device, errbuf);
      if (p == nullptr)
        return FailOpen(nullptr, errbuf);

      // 64KB is the max IPv4 packet size
      if (pcap_set_snaplen(p, 65535) != 0)
        return FailOpen(p, "Unable to set snaplen");

      // Always use promiscuous mode
      if (pcap_set_promisc(p, 1) != 0)
        return FailOpen(p, "Unable to set promiscuous mode");

      // Try to set buffer size. Sometimes the OS has a lower limit that it will
      // silently enforce.
      if (pcap_set_buffer_size(p, buffer_size) != 0)
        return FailOpen(p, "Unable to set buffer size");

      // Set "timeout" on read, even though we are also setting nonblock below.
      // On Linux this is required.
      if (pcap_set_timeout(p, 1000) != 0)
        return FailOpen(p, "Unable to set read timeout");

      // Linked directly (libpcap >= 1.5); 0.2.1 dlopen()ed "libpcap.so", which only
      // the -dev package installs, and silently went without immediate mode otherwise.
      pcap_set_immediate_mode(p, 1);

      // > 0 is a warning (e.g. promiscuous mode not supported): the handle works.
      if (pcap_activate(p) < 0)
        return FailOpen(p, pcap_geterr(p));

      if (pcap_setnonblock(p, 1, errbuf) == -1)
        return FailOpen(p, errbuf);

      if (filter.length() != 0) {
        if (pcap_compile(p, &fp, (char*)*filter, 1, mask) == -1)
          return FailOpen(p, pcap_geterr(p));

        int set = pcap_setfilter(p, &fp);
        pcap_freecode(&fp);
        if (set == -1)
          return FailOpen(p, pcap_geterr(p));
      }

#if defined(__APPLE_CC__) || defined(__APPLE__)
      // Work around buffering bug in BPF on OSX 10.6 as of May 19, 2010
      {
        int bfd = pcap_get_selectable_fd(p);
        int v = 1;
        ioctl(bfd, BIOCIMMEDIATE, &v);
      }
#endif

      int link_type = pcap_datalink(p);

      Local<Value> ret;
      switch (link_type) {
        case DLT_NULL:
          ret = Nan::New<String>("NULL").ToLocalChecked();
          break;
        case DLT_EN10MB: // most wifi interfaces pretend to be "ethernet"
          ret =  Nan::New<String>("ETHERNET").ToLocalChecked();
          break;
        case DLT_IEEE802_11_RADIO: // 802.11 "monitor mode"
          ret = Nan::New<String>("IEEE802_11_RADIO").ToLocalChecked();
          break;
        case DLT_LINUX_SLL: // "Linux cooked-mode capture"
          ret = Nan::New<String>("LINKTYPE_LINUX_SLL").ToLocalChecked();
          break;
        case DLT_RAW: // "raw IP"
          ret = Nan::New<String>("RAW").ToLocalChecked();
          break;
        default:
          snprintf(errbuf, PCAP_ERRBUF_SIZE, "Unknown linktype %d", link_type);
          ret = Nan::New<String>(errbuf).ToLocalChecked();
          break;
      }

      int fd = pcap_get_selectable_fd(p);
      if (fd < 0)
        return FailOpen(p, "the capture has no selectable file descriptor");

      uv_poll_t* poll = new uv_poll_t;
      int r = uv_poll_init(uv_default_loop(), poll, fd);
      if (r != 0) {
        delete poll;
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "uv_poll_init: %s", uv_strerror(r));
        return FailOpen(p, errbuf);
      }
      poll->data = obj;
      r = uv_poll_start(poll, UV_READABLE, cb_packets);
      if (r != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(poll), OnPollClosed);
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "uv_poll_start: %s", uv_strerror(r));
        return FailOpen(p, errbuf);
      }

      obj->pcap_handle = p;
      obj->poll_handle = poll;
      obj->buffer_data = Buffer::Data(buffer_obj);
      obj->buffer_length = Buffer::Length(buffer_obj);
      obj->buffer_ref.Reset(buffer_obj);
      obj->closing = false;
      obj->Ref();
      obj->refd = true;
      info.GetReturnValue().Set(ret);
    }

    static NAN_METHOD(Close) {
      Pcap *obj = Nan::ObjectWrap::Unwrap<Pcap>(info.This());

      info.GetReturnValue().Set(Nan::New<Boolean>(obj->close()));
    }

    // New: libpcap's counters for this handle since open(), { recv, drop, ifdrop }
    // (struct pcap_stat; on Linux cumulative, read from PACKET_STATISTICS). Works on
    // a handle that emitted 'error' until it is closed; throws when not open or when
    // pcap_stats fails (with libpcap's message).
    static NAN_METHOD(Stats) {
      Pcap *obj = Nan::ObjectWrap::Unwrap<Pcap>(info.This());

      if (obj->pcap_handle == nullptr || obj->closing)
        return Nan::ThrowError("Not currently capturing/open");

      struct pcap_stat ps;
      memset(&ps, 0, sizeof(ps));
      if (pcap_stats(obj->pcap_handle, &ps) != 0)
        return Nan::ThrowError(pcap_geterr(obj->pcap_handle));

      Local<Object> out = Nan::New<Object>();
      Nan::Set(out, Nan::New<String>("recv").ToLocalChecked(),
               Nan::New<Number>(ps.ps_recv)).FromJust();
      Nan::Set(out, Nan::New<String>("drop").ToLocalChecked(),
               Nan::New<Number>(ps.ps_drop)).FromJust();
      Nan::Set(out, Nan::New<String>("ifdrop").ToLocalChecked(),
               Nan::New<Number>(ps.ps_ifdrop)).FromJust();
      info.GetReturnValue().Set(out);
    }

    static void Initialize(Local<Object> target) {
      Nan::HandleScope scope;

      Local<FunctionTemplate> tpl = Nan::New<FunctionTemplate>(New);

      constructor.Reset(tpl);
      tpl->InstanceTemplate()->SetInternalFieldCount(1);
      tpl->SetClassName(Nan::New<String>("Cap").ToLocalChecked());

      Nan::SetPrototypeMethod(tpl, "send", Send);
      Nan::SetPrototypeMethod(tpl, "open", Open);
      Nan::SetPrototypeMethod(tpl, "close", Close);
      Nan::SetPrototypeMethod(tpl, "stats", Stats);

      emit_symbol.Reset(Nan::New<String>("emit").ToLocalChecked());
      packet_symbol.Reset(Nan::New<String>("packet").ToLocalChecked());
      error_symbol.Reset(Nan::New<String>("error").ToLocalChecked());

      Nan::Set(target,
               Nan::New<String>("Cap").ToLocalChecked(),
               Nan::GetFunction(tpl).ToLocalChecked()).FromJust();
    }
};

static NAN_METHOD(ListDevices) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_if_t *alldevs = nullptr, *cur_dev;
  pcap_addr_t *cur_addr;
  int i, j, af;

  Local<Object> Dev;
  Local<Object> Address;
  Local<Array> DevsArray;
  Local<Array> AddrArray;

  if (pcap_findalldevs(&alldevs, errbuf) == -1)
    return Nan::ThrowError(errbuf);

  DevsArray = Nan::New<Array>();

  for (i = 0, cur_dev = alldevs;
       cur_dev != nullptr;
       cur_dev = cur_dev->next, ++i) {
    Dev = Nan::New<Object>();
    AddrArray = Nan::New<Array>();

    Nan::Set(Dev,
             Nan::New<String>("name").ToLocalChecked(),
             Nan::New<String>(cur_dev->name).ToLocalChecked());
    if (cur_dev->description != nullptr) {
      Nan::Set(Dev,
               Nan::New<String>("description").ToLocalChecked(),
               Nan::New<String>(cur_dev->description).ToLocalChecked());
    }

    for (j = 0, cur_addr = cur_dev->addresses;
         cur_addr != nullptr;
         cur_addr = cur_addr->next) {
      if (cur_addr->addr) {
        af = cur_addr->addr->sa_family;
        if (af == AF_INET || af == AF_INET6) {
          Address = Nan::New<Object>();
          SetAddrStringHelper("addr", cur_addr->addr, Address);
          SetAddrStringHelper("netmask", cur_addr->netmask, Address);
          SetAddrStringHelper("broadaddr", cur_addr->broadaddr, Address);
          SetAddrStringHelper("dstaddr", cur_addr->dstaddr, Address);
          Nan::Set(AddrArray, j++, Address);
        }
      }
    }

    Nan::Set(Dev, Nan::New<String>("addresses").ToLocalChecked(), AddrArray);

    if (cur_dev->flags & PCAP_IF_LOOPBACK) {
      Nan::Set(Dev,
               Nan::New<String>("flags").ToLocalChecked(),
               Nan::New<String>("PCAP_IF_LOOPBACK").ToLocalChecked());
    }

    Nan::Set(DevsArray, i, Dev);
  }

  if (alldevs)
    pcap_freealldevs(alldevs);

  info.GetReturnValue().Set(DevsArray);
}

static NAN_METHOD(FindDevice) {
  Local<Value> ret;
  char errbuf[PCAP_ERRBUF_SIZE];
  char name4[INET_ADDRSTRLEN];
  char name6[INET6_ADDRSTRLEN];
  char *ip = nullptr;
  pcap_if_t *alldevs = nullptr, *dev;
  pcap_addr_t *addr;
  bool found = false;

  if (info.Length() > 0 && !info[0]->IsString())
    return Nan::ThrowTypeError("Expected string for IP");

  if (pcap_findalldevs(&alldevs, errbuf) == -1)
    return Nan::ThrowError(errbuf);

  if (info.Length() > 0) {
    Nan::Utf8String ipstr(info[0]);
    ip = (char*)malloc(strlen(*ipstr) + 1);
    strcpy(ip, *ipstr);
  }

  for (dev = alldevs; dev != nullptr; dev = dev->next) {
    if (dev->addresses != nullptr) {
      for (addr = dev->addresses; addr != nullptr; addr = addr->next) {
        if (addr->addr == nullptr)
          continue;
        if (addr->addr->sa_family == AF_INET
            || addr->addr->sa_family == AF_INET6) {
          if (ip) {
            if (addr->addr->sa_family == AF_INET) {
              inet_ntop(AF_INET,
                        (char*)&(((struct sockaddr_in*)(addr->addr))->sin_addr),
                        name4, INET_ADDRSTRLEN);
              if (strcmp(ip, name4) != 0)
                continue;
            } else if (addr->addr->sa_family == AF_INET6) {
              inet_ntop(AF_INET6,
                        (char*)&(
                          ((struct sockaddr_in6*)(addr->addr))->sin6_addr
                        ),
                        name6, INET6_ADDRSTRLEN);
              if (strcmp(ip, name6) != 0)
                continue;
            }
          }
          ret = Nan::New<String>(dev->name).ToLocalChecked();
          found = true;
          break;
        }
      }
      if (found)
        break;
    }
  }

  if (alldevs)
    pcap_freealldevs(alldevs);

  if (ip)
    free(ip);

  info.GetReturnValue().Set(ret);
}

extern "C" {
  void init(Local<Object> target) {
    Nan::HandleScope scope;
    Pcap::Initialize(target);
    Nan::Set(target,
             Nan::New<String>("findDevice").ToLocalChecked(),
             Nan::GetFunction(Nan::New<FunctionTemplate>(FindDevice))
               .ToLocalChecked()).FromJust();
    Nan::Set(target,
             Nan::New<String>("deviceList").ToLocalChecked(),
             Nan::GetFunction(Nan::New<FunctionTemplate>(ListDevices))
               .ToLocalChecked()).FromJust();
  }

  NODE_MODULE(cap, init);
}
